"""One module per command: its options, read top to bottom, and what it does."""
