"""Built-in downstream tasks: segmentation and three restoration tasks."""
