// float32 -> bf16 / f16 storage, round to nearest even (NaN stays NaN, overflow goes to infinity), and back.
#pragma once
#include <cstddef>
#include <cstdint>

namespace sparse {

uint16_t floatToBf16(float x);
uint16_t floatToHalf(float x);
void convertToStorage(const float* src, uint16_t* dst, size_t n, int precision);
// bf16 / f16 storage -> float32 (exact).
float bf16ToFloat(uint16_t x);
float halfToFloat(uint16_t x);
void convertFromStorage(const uint16_t* src, float* dst, size_t n, int precision);

}  // namespace sparse
