"""The scenarios whose real months the kernel tests replay: between them they reach the
buy-domestic mandate, the diffusion cap, rentals, an embargo and a gray market."""

CASES = [
    ("historical", 1),
    ("domestic_push", 4),
    ("total_embargo", 2),
    ("leaky_enforcement", 3),
    ("no_controls", 5),
]
