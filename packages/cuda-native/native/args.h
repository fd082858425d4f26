// Parses the argument object of binding.attention() into a Request, re-checking every size and offset against
// the byte lengths of the buffers it names. Throws NativeError (INVALID_ARGUMENT / INVALID_SHAPE / UNSUPPORTED).
#pragma once
#include <napi.h>

#include "request.h"

namespace sparse {

Request parseRequest(const Napi::Object& args);

}  // namespace sparse
