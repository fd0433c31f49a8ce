"""The edges of core: Stripe, mail (outbox and SMTP) and chart rendering."""
