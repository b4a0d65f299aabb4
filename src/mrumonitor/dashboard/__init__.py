"""The regional dashboard (Dash): reads published runs of the layer store, never runs the pipeline."""
