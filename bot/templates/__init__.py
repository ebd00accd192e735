"""The templates shipped inside the package, so an installed wheel finds them (copies of /templates)."""
