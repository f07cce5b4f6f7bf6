"""Export a render to standard formats (CDISC ARS)."""
