"""Staff pages of the routing-rule editor (list, edit, order, preview)."""
