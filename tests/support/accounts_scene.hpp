#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include "chat_session.hpp"
#include "data_dir.hpp"
#include "test_server.hpp"

namespace chat::test {

// Accounts need a data directory; the cheapest argon2id cost keeps tests
// quick (the cost itself is the accounts library's to test).
inline server::config with_accounts(const data_dir& dir, server::config config = test_config()) {
  config.data_dir = dir.string();
  config.password_ops = 1;
  config.password_memory = 8192;
  return config;
}

// A JSON guest that registers its name with `password`.
inline line_client register_json(std::uint16_t port, const std::string& name,
                                 const std::string& password) {
  line_client client = join_json(port, name);
  client.send_line(json{{"type", "register"}, {"password", password}}.dump());
  const json reply = read_json(client);
  INFO(reply.dump());
  REQUIRE(reply == json{{"type", "registered"}, {"user", name}});
  return client;
}

}  // namespace chat::test
