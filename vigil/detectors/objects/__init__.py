"""The objects detector: ImageNet classes from EfficientNet-Lite weights, converted to ONNX
without PyTorch (docs/objects.md)."""
