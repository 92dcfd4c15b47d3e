"""Chart views: BarChart bars at the time cursor."""
