"""Signal pattern files, one TOML file per language (package data)."""
