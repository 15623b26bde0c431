"""Hash lists: formats (pure) and their store."""
