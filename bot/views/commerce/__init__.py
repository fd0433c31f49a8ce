"""What the commerce forms (book, assign, row actions and their confirmations) are built from."""
