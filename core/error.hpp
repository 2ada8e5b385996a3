// Every error the library raises derives from dlcraft::Error, so a program can catch one type.
// The library never calls abort()/exit(): the app decides how to report and which exit code.
#pragma once
#include <stdexcept>
#include <string>

namespace dlcraft {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// Shapes that do not fit an op ("fc1 (Linear): input [16,127] vs weight [2048,4096]").
class ShapeError : public Error { using Error::Error; };
// A tensor on the wrong device, or a device this build or machine does not have.
class DeviceError : public Error { using Error::Error; };
// An allocation that failed; the message says how many bytes were asked for.
class OutOfMemoryError : public Error { using Error::Error; };
// A missing, unreadable or corrupt file; the message names the file.
class IOError : public Error { using Error::Error; };
// A bad value passed by the caller (negative size, label out of range, NaN loss...).
class ArgumentError : public Error { using Error::Error; };
// A tensor of a dtype the op does not take ("sqrt: input is int64; it takes float32").
class DTypeError : public Error { using Error::Error; };
// Misuse of autograd that PyTorch also refuses: a second backward through a freed graph, or a
// tensor saved for backward that was changed in place before backward ran.
class AutogradError : public Error { using Error::Error; };

}  // namespace dlcraft
