"""Space views: each shows entities of one store at the time cursor."""
