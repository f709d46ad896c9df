/**
 * The Performer Transformer: token embedding, positional information, pre-LayerNorm blocks
 * (multi-head attention with an output projection, GELU feed-forward), final LayerNorm and an
 * output layer tied to the embedding, with a hand-written backward mirrored on the forward.
 *
 * <p>{@link dev.performer.model.PerformerModel} is a composition of package-private layers, each
 * with its forward and backward next to each other: {@code Embedding}, {@code AttentionBlock},
 * {@code FeedForward} and {@code OutputLoss}, built from {@code LayerNorm}, {@code Linear},
 * {@code Rotary} and {@code Dropout}. The one-token decoder runs the same layer objects on one row.
 *
 * <p>Parameters and gradients live in one flat {@code float[]} each, with named views
 * ({@link dev.performer.model.ParameterLayout}); activations ({@code Activations}) and gradient
 * scratch ({@code GradScratch}) are sized from the configuration and the batch shape and reused
 * across steps. All arithmetic goes through the {@link dev.performer.kernel.Kernels} passed in;
 * no Vector API here.
 */
package dev.performer.model;
