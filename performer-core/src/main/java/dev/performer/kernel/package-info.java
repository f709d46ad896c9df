/**
 * The kernel layer: dense float32 primitives behind one small interface, {@link dev.performer.kernel.Kernels}.
 *
 * <p>This is the only package that touches the Vector API (and, if ever added, native memory).
 * {@link dev.performer.kernel.ScalarKernels} is the plain reference: simple loops, one thread.
 * {@link dev.performer.kernel.VectorKernels} is the fast path: a packed, register-blocked GEMM
 * (a 6 x 4·lanes tile, KC=256, MC=144) and SIMD element-wise maps, parallel over a private
 * fork-join pool. Both are run against each other in one differential test over awkward sizes,
 * transposes, offsets and leading dimensions, at 4, 8 and 16 float lanes (the system property
 * {@code performer.vector.lanes}, read once by {@link dev.performer.kernel.VectorKernels}).
 *
 * <p>Layout convention: every matrix is row-major in a {@code float[]} at an offset, with a
 * leading dimension (the distance between consecutive rows). No method keeps a reference to
 * its arguments; scratch buffers are per thread and owned by the backend instance.
 */
package dev.performer.kernel;
