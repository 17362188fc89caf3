// The CPU item kernel, written once and compiled per instruction set: each including
// translation unit defines a row policy `Isa` (build_pairs, warp_row, blur,
// add_gaussian, store_row; blur taps are summed in order k = 0 .. taps-1 from 0) and
// instantiates degrade_item<Isa>. Everything here has internal linkage (anonymous
// namespace) so the AVX2 and generic copies never collide at link time.
//
// One band = one (sample, channel, range of output rows):
//   1. warp the band plus a halo of `radius` rows/columns into a float canvas
//      (the halo is warped from the real input, so the blur sees real content);
//   2. write the clean output from the canvas centre;
//   3. horizontal blur pass canvas -> tmp, vertical pass tmp -> line;
//   4. Poisson shot noise, then Gaussian noise (Philox, counter = pixel), store.
// No clamping anywhere: values may leave [0, 1].

namespace {

using ::emkit::degrade::CpuCall;
using ::emkit::degrade::kMaxTaps;
using ::emkit::degrade::SampleSetup;
using ::emkit::degrade::ScratchShape;

constexpr int64_t kWarpStrip = 64;  // canvas columns warped per pass over the band's rows

inline int64_t in_elem_size(::emkit::InDType dt) {
  return dt == ::emkit::InDType::kUInt8 ? 1 : (dt == ::emkit::InDType::kUInt16 ? 2 : 4);
}

// One band (row tile) of one plane. `pairs` is the plane's row-pair copy (Isa::build_pairs)
// or null.
template <class Isa>
void degrade_band(const CpuCall& call, int64_t plane, int64_t tile, float* scratch,
                  const void* pairs) {
  const ::emkit::DegradeArgs& a = call.args;
  const int64_t b = plane / a.channels;
  const int64_t c = plane - b * a.channels;
  const SampleSetup& s = call.setups[b];
  const bool nearest = a.nearest_channels != nullptr && a.nearest_channels[c] != 0;
  const bool degrade = a.out_degraded != nullptr && !nearest &&
                       (a.degrade_channels == nullptr || a.degrade_channels[c] != 0);
  const int r = degrade ? s.radius : 0;
  const int64_t H = a.out_h, W = a.out_w;
  const int64_t i0 = tile * call.tile_rows;
  const int64_t i1 = i0 + call.tile_rows < H ? i0 + call.tile_rows : H;
  const int64_t rows = i1 - i0;

  const ScratchShape sh = ::emkit::degrade::scratch_shape(W, rows, r);
  float* canvas = scratch;
  float* tmp = canvas + sh.canvas_rows * sh.canvas_stride;
  float* line = tmp + sh.canvas_rows * sh.tmp_stride;

  // 1. warp tile + halo
  const int64_t in_plane = a.in_h * a.in_w;
  const void* in = static_cast<const char*>(a.input) + plane * in_plane * in_elem_size(a.in_dtype);
  // Column strips keep the input footprint of a rotated strip (~1.4 x 64 x band rows)
  // inside L1; whole rows would stream ~W/64 x more cache lines per output row.
  const int64_t cols = W + 2 * r;
  for (int64_t x0 = 0; x0 < cols; x0 += kWarpStrip) {
    const int64_t n = cols - x0 < kWarpStrip ? cols - x0 : kWarpStrip;
    for (int64_t ci = 0; ci < sh.canvas_rows; ++ci)
      Isa::warp_row(in, pairs, a.in_dtype, a.in_h, a.in_w, s, i0 - r + ci, x0 - r, n, nearest,
                    canvas + ci * sh.canvas_stride + x0);
  }

  // 2. clean output
  const int64_t out_plane = plane * H * W;
  if (a.out_clean != nullptr)
    for (int64_t y = 0; y < rows; ++y)
      Isa::store_row(canvas + (y + r) * sh.canvas_stride + r, W, a.out_clean, a.out_dtype,
                     out_plane + (i0 + y) * W, call.stream_out);
  if (a.out_degraded == nullptr) return;
  if (!degrade || (r == 0 && s.noise == 0.0f && s.dose == 0.0f)) {
    for (int64_t y = 0; y < rows; ++y)
      Isa::store_row(canvas + (y + r) * sh.canvas_stride + r, W, a.out_degraded, a.out_dtype,
                     out_plane + (i0 + y) * W, call.stream_out);
    return;
  }

  // 3. separable blur
  const float* w = call.weights + b * kMaxTaps;
  const int taps = 2 * r + 1;
  if (r > 0)
    for (int64_t ci = 0; ci < sh.canvas_rows; ++ci)
      Isa::blur(canvas + ci * sh.canvas_stride, 1, W, w, taps, tmp + ci * sh.tmp_stride);

  // 4. noise and store, row by row
  const uint64_t blocks_per_row = static_cast<uint64_t>((W + 3) / 4);
  for (int64_t y = 0; y < rows; ++y) {
    const int64_t i = i0 + y;
    float* v;
    if (r > 0) {
      Isa::blur(tmp + y * sh.tmp_stride, sh.tmp_stride, W, w, taps, line);
      v = line;
    } else {
      v = canvas + y * sh.canvas_stride;  // no halo: the canvas row is ours to modify
    }
    const uint64_t row_id = static_cast<uint64_t>(plane * H + i);
    if (s.dose > 0.0f) {
      const uint64_t first = row_id * static_cast<uint64_t>(W);
      for (int64_t j = 0; j < W; ++j)
        v[j] = ::emkit::degrade::apply_shot_noise(v[j], s.dose, a.seed,
                                                   first + static_cast<uint64_t>(j));
    }
    if (s.noise > 0.0f) Isa::add_gaussian(v, W, a.seed, row_id * blocks_per_row, s.noise);
    Isa::store_row(v, W, a.out_degraded, a.out_dtype, out_plane + i * W, call.stream_out);
  }
}

// Item = (plane, band) in band mode; in plane mode (call.plane_mode) item = plane: its
// row-pair copy is built once into the scratch and all bands of the plane reuse it.
template <class Isa>
void degrade_item(const CpuCall& call, int64_t item, float* scratch) {
  if (!call.plane_mode) {
    degrade_band<Isa>(call, item / call.tiles_per_plane, item % call.tiles_per_plane, scratch,
                      nullptr);
    return;
  }
  const ::emkit::DegradeArgs& a = call.args;
  const int64_t in_plane = a.in_h * a.in_w;
  const void* in = static_cast<const char*>(a.input) + item * in_plane * in_elem_size(a.in_dtype);
  void* pairs = scratch + call.band_scratch_floats;
  const bool built = Isa::build_pairs(in, a.in_dtype, a.in_h, a.in_w, pairs);
  for (int64_t tile = 0; tile < call.tiles_per_plane; ++tile)
    degrade_band<Isa>(call, item, tile, scratch, built ? pairs : nullptr);
}

}  // namespace
