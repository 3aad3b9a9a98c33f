"""CDK units of the Export Intelligence Platform: one construct per logical unit."""
