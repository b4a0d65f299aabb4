"""The dashboard's pages: one module each, owning its layout and its callbacks (Dash pages)."""
