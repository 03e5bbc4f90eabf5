"""Link analysis: extraction, domain parsing, lists, look-alikes and the URL model.

The links detector (``spimguard.detectors.links``) is built from these parts;
they know nothing of the engine.
"""
