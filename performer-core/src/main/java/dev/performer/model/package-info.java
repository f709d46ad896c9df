/**
 * The Performer Transformer: token embedding, positional information, pre-LayerNorm blocks
 * (multi-head attention with an output projection, GELU feed-forward), final LayerNorm and an
 * output layer tied to the embedding, with a hand-written backward mirrored on the forward.
 *
 * <p>Parameters and gradients live in one flat {@code float[]} each, with named views
 * ({@link dev.performer.model.ParameterLayout}); activations are sized from the configuration and
 * the batch shape and reused across steps. All arithmetic goes through the
 * {@link dev.performer.kernel.Kernels} passed in; no Vector API here.
 */
package dev.performer.model;
