#pragma once

#include <stdexcept>
#include <string>

namespace statemix {

// Every failure the runtime reports: bad arguments (the message names the argument, what was
// expected and what was given), an absent device, a kernel that returned an error.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace statemix
