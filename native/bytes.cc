// Strings <-> bytes at the addon's boundary, exactly. File names (an interface's entry under
// /proc/sys/net/ipv4/conf, a name under /run/netns) are bytes that need not be UTF-8; a
// JavaScript string is UTF-16. A byte that is not part of valid UTF-8 travels as the lone
// surrogate U+DC80 + (byte - 0x80), as Python's "surrogateescape" (PEP 383) does: valid UTF-8
// never decodes to a lone surrogate, so no two byte strings become the same JavaScript string,
// and every string the addon hands out comes back to the same bytes.
#include <cstring>
#include <string>

#include "netns.h"

namespace netns {

namespace {

// The length of the valid UTF-8 sequence at p (at most `left` bytes), or 0 when there is none:
// the well-formed byte sequences of Unicode's table 3-7 (no overlong forms, no surrogates,
// nothing above U+10FFFF).
size_t SeqLen(const unsigned char* p, size_t left) {
  unsigned char b = p[0];
  if (b < 0x80) return 1;
  auto cont = [&](size_t i, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
    return i < left && p[i] >= lo && p[i] <= hi;
  };
  if (b >= 0xC2 && b <= 0xDF) return cont(1) ? 2 : 0;
  if (b == 0xE0) return cont(1, 0xA0) && cont(2) ? 3 : 0;
  if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) return cont(1) && cont(2) ? 3 : 0;
  if (b == 0xED) return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;
  if (b == 0xF0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (b >= 0xF1 && b <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (b == 0xF4) return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

// The offset of the first byte that is not part of valid UTF-8, or n. ASCII, the common case
// (every key and value the kernel makes), goes eight bytes at a time.
size_t FirstInvalid(const unsigned char* p, size_t n) {
  size_t i = 0;
  while (i < n) {
    if (i + 8 <= n) {
      uint64_t w;
      memcpy(&w, p + i, 8);
      if ((w & 0x8080808080808080ull) == 0) {
        i += 8;
        continue;
      }
    }
    size_t k = SeqLen(p + i, n - i);
    if (k == 0) return i;
    i += k;
  }
  return n;
}

void PutUtf8(std::string& out, uint32_t c) {
  if (c < 0x80) {
    out += (char)c;
  } else if (c < 0x800) {
    out += (char)(0xC0 | (c >> 6));
    out += (char)(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += (char)(0xE0 | (c >> 12));
    out += (char)(0x80 | ((c >> 6) & 0x3F));
    out += (char)(0x80 | (c & 0x3F));
  } else {
    out += (char)(0xF0 | (c >> 18));
    out += (char)(0x80 | ((c >> 12) & 0x3F));
    out += (char)(0x80 | ((c >> 6) & 0x3F));
    out += (char)(0x80 | (c & 0x3F));
  }
}

}  // namespace

std::string BytesOf(const Napi::Value& v) {
  // A Uint8Array is the bytes themselves (a hot key's path, encoded once by TypeScript).
  // One napi_get_typedarray_info (Napi::Uint8Array's accessors make one call each).
  if (v.IsTypedArray()) {
    napi_typedarray_type type;
    size_t length = 0;
    void* data = nullptr;
    if (napi_get_typedarray_info(v.Env(), v, &type, &length, &data, nullptr, nullptr) != napi_ok ||
        type != napi_uint8_array)
      NAPI_THROW(Napi::TypeError::New(v.Env(), "expected a Uint8Array"), std::string());
    return std::string(static_cast<const char*>(data), length);
  }
  Napi::String s = v.As<Napi::String>();
  std::string utf8 = s.Utf8Value();
  // Node's own conversion is exact unless the string holds a lone surrogate, which it turns
  // into U+FFFD (EF BF BD): only then is the string read again, as UTF-16.
  if (utf8.find("\xEF\xBF\xBD") == std::string::npos) return utf8;
  std::u16string u = s.Utf16Value();
  std::string out;
  out.reserve(u.size() * 3);
  for (size_t i = 0; i < u.size(); i++) {
    uint32_t c = u[i];
    if (c >= 0xD800 && c <= 0xDBFF && i + 1 < u.size() && u[i + 1] >= 0xDC00 &&
        u[i + 1] <= 0xDFFF) {
      PutUtf8(out, 0x10000 + ((c - 0xD800) << 10) + (u[i + 1] - 0xDC00));
      i++;
    } else if (c >= 0xDC80 && c <= 0xDCFF) {
      out += (char)(c - 0xDC00);  // an undecodable byte, as StringOf made it
    } else if (c >= 0xD800 && c <= 0xDFFF) {
      PutUtf8(out, 0xFFFD);  // any other lone surrogate: as Node writes it
    } else {
      PutUtf8(out, c);
    }
  }
  return out;
}

Napi::String StringOf(Napi::Env env, const char* p, size_t n) {
  const unsigned char* b = reinterpret_cast<const unsigned char*>(p);
  size_t bad = FirstInvalid(b, n);
  if (bad == n) return Napi::String::New(env, p, n);
  std::u16string u;
  u.reserve(n);
  // The valid prefix is decoded by V8 on the fast path above; here every code point is ours.
  size_t i = 0;
  while (i < n) {
    size_t k = SeqLen(b + i, n - i);
    if (k == 0) {
      u += (char16_t)(0xDC00 + b[i]);  // b[i] >= 0x80: ASCII is always valid
      i++;
      continue;
    }
    uint32_t c;
    if (k == 1)
      c = b[i];
    else if (k == 2)
      c = ((b[i] & 0x1F) << 6) | (b[i + 1] & 0x3F);
    else if (k == 3)
      c = ((b[i] & 0x0F) << 12) | ((b[i + 1] & 0x3F) << 6) | (b[i + 2] & 0x3F);
    else
      c = ((b[i] & 0x07) << 18) | ((b[i + 1] & 0x3F) << 12) | ((b[i + 2] & 0x3F) << 6) |
          (b[i + 3] & 0x3F);
    if (c >= 0x10000) {
      u += (char16_t)(0xD800 + ((c - 0x10000) >> 10));
      u += (char16_t)(0xDC00 + ((c - 0x10000) & 0x3FF));
    } else {
      u += (char16_t)c;
    }
    i += k;
  }
  return Napi::String::New(env, u.data(), u.size());
}

namespace {

// fsdecode(bytes): the string StringOf makes of a Uint8Array's bytes.
Napi::Value FsDecode(const Napi::CallbackInfo& info) {
  Napi::Uint8Array a = info[0].As<Napi::Uint8Array>();
  return StringOf(info.Env(), reinterpret_cast<const char*>(a.Data()), a.ByteLength());
}

// fsencode(string): the bytes BytesOf makes of a string, as a Buffer.
Napi::Value FsEncode(const Napi::CallbackInfo& info) {
  std::string b = BytesOf(info[0]);
  return Napi::Buffer<char>::Copy(info.Env(), b.data(), b.size());
}

}  // namespace

void InitBytes(Napi::Env env, Napi::Object exports) {
  exports.Set("fsdecode", Napi::Function::New(env, FsDecode, "fsdecode"));
  exports.Set("fsencode", Napi::Function::New(env, FsEncode, "fsencode"));
}

}  // namespace netns
