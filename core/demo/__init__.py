"""Demo data: realistic customers, their catalog and their history."""
