"""Tensor views: a 2D slice of an N-D Tensor, colormapped, with dimension selectors."""
