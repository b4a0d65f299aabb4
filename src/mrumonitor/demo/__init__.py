"""The demo region: real mining detections and four synthetic national cadastres placed around them."""

from mrumonitor.demo.inputs import DemoInputs, demo_config_text, write_demo_inputs

__all__ = ["DemoInputs", "demo_config_text", "write_demo_inputs"]
