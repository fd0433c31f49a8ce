"""block_actions and view_submission listeners."""
