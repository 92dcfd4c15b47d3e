"""Spatial views: 2D image spaces and 3D scenes."""
