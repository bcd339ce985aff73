#pragma once

#include <cstddef>

#include <sys/uio.h>

#include <boost/system/error_code.hpp>

namespace chat::transport {

// One non-blocking sendmsg of `count` buffers on `fd`: the bytes the kernel
// took, or 0 with would_block when it took none (or with the error). A peer
// that vanished is an error code, never SIGPIPE.
std::size_t send_gathered(int fd, const iovec* buffers, std::size_t count,
                          boost::system::error_code& ec);

}  // namespace chat::transport
