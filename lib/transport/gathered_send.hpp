#pragma once

#include <cstddef>
#include <span>

#include <sys/uio.h>

#include <boost/system/error_code.hpp>

#include "server/frame.hpp"

namespace chat::transport {

// One non-blocking sendmsg of `count` buffers on `fd`: the bytes the kernel
// took, or 0 with would_block when it took none (or with the error). A peer
// that vanished is an error code, never SIGPIPE.
std::size_t send_gathered(int fd, const iovec* buffers, std::size_t count,
                          boost::system::error_code& ec);

// The bytes of `frames` (the first from `skip_first` on) as one buffer per
// frame in `into`, until `into` is full or `limit` bytes are gathered;
// returns how many buffers. The same frames always gather the same way, as a
// retried TLS write needs.
std::size_t gather_frames(std::span<const server::frame> frames, std::size_t skip_first,
                          std::span<iovec> into, std::size_t limit);

}  // namespace chat::transport
