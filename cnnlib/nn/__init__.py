"""Layers and what is built from them: objects with forward(x), backward(dout), params.

- `layer`: `Layer`, what every layer shares (ch. 2);
- `layers`: Conv2D, the pools, activations, Flatten, Linear, Dropout, Sequential (ch. 2, 5-12);
- `normalization`: Standardize and batch norm (ch. 10);
- `init`: He and Glorot initial weights (ch. 6, 8);
- `optim`: SGD with momentum (ch. 2, 9);
- `gradcheck`: numerical gradients and their checks (ch. 2, 7);
- `residual`: the residual block (ch. 12);
- `models`: the book's reference network and the residual network (ch. 10, 12);
- `serialization`: model files without pickle (ch. 10);
- `interop`: exact conversion to and from PyTorch (ch. 12; imports torch only when called);
- `explain`: saliency, Grad-CAM, occlusion, FGSM and top-activating patches (ch. 11).

Book: chapters 2, 5-12.
"""
