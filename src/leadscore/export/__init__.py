"""Files the pipeline hands to other systems."""
