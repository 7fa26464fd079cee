"""The arithmetic the chapters derive: NumPy only, no state, no layers.

- `shapes`: output sizes of convolution and pooling, with errors that explain (ch. 4, 5);
- `im2col`: windows of a batch, zero padding, im2col and col2im (ch. 3, 7);
- `functional`: convolution forward and backward, pooling, activations (ch. 3, 5, 7, 8);
- `losses`: softmax and softmax cross-entropy (ch. 2, 9);
- `naive`: the loop versions the chapters start from and the tests compare against.

Book: chapters 2-9.
"""
