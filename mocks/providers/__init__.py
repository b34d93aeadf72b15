"""One module per provider: its surface (routes, rules, seed state), built on ``..surface``."""
