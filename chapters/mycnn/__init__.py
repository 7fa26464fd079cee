"""mycnn: the convolutional network you write yourself, one piece per chapter.

Each module holds the pieces of one idea, and each piece is an exercise of the book (its
number is in the function's docstring). In the book's full edition every piece holds a
reference solution between `# BEGIN SOLUTION` and `# END SOLUTION`; in the student edition
(`make exercises`, folder exercises/mycnn/) each solution is replaced by
`raise NotImplementedError(...)`, and you write it. The chapter's check cell imports your
function (reloading the file, so your edits count) and compares it with cnnlib.

    conv.py         conv_forward_naive, conv_forward_im2col (ch3),
                    conv_backward_naive, conv_backward (ch7)
    pool.py         max and average pooling, forward and backward (ch5)
    activations.py  relu_forward, relu_backward (ch8)
    linear.py       linear_forward, linear_backward (ch2)
    loss.py         softmax_cross_entropy, with its gradient (ch2)
    optim.py        sgd_momentum_step (ch9)
    train.py        train_epochs, the training loop (ch10)
    network.py      layer objects built from your functions, small_cnn (ch10)

Layouts are channels-last, as in cnnlib: images x (N, H, W, C), filters w (K, F, F, C).
Book: the build-it-yourself track (track.md).
"""
