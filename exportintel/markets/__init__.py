"""Market suggestions: which destination countries an exporter should try next, and why."""
