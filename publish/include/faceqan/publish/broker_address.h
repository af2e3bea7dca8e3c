// A broker's address as the faceqanpublish element's `address` property gives it.
#pragma once

#include <string>

namespace faceqan::publish {

struct BrokerAddress {
  std::string host;
  int port = 1883;
};

// "host:port", "[ipv6]:port"; the port is 1-65535. Throws PublishError naming the text otherwise.
BrokerAddress parse_broker_address(const std::string& text);

}  // namespace faceqan::publish
