"""Database layer: tables, engines and migrations."""
