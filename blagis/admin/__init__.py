"""Administration: accounts' roles and commune scope, and the audit log (admins only)."""
