// Keras' model.summary() for any Module: one row per layer with its output shape and parameter
// count, then the totals. Output shapes come from one forward pass of a single example of
// `input_shape` (without the batch dimension; zeros), run in eval mode without gradients; the
// batch dimension prints as "None" as in Keras. Each module's own forward hook is kept.
#pragma once
#include <string>

#include "core/shape.hpp"
#include "layers/module.hpp"

namespace dlcraft {

// Rows for modules up to `max_depth` levels below the root (1: its direct children, as Keras
// shows a Sequential); a row's parameters count its whole sub-tree. Ends with "Total params",
// "Trainable params" and "Non-trainable params" (frozen parameters; buffers are not counted,
// as in Keras). ShapeError from the forward pass when input_shape does not fit the model.
std::string summary(Module& model, const Shape& input_shape, int max_depth = 1);

}  // namespace dlcraft
