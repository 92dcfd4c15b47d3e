"""Graph views: GraphNodes and GraphEdges, placed by a force-directed layout that settles."""
