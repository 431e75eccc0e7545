"""What we measure on trained models: boundaries, probes, regions, gradient flow."""
