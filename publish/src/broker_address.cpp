#include "faceqan/publish/broker_address.h"

#include <cctype>

#include "faceqan/publish/publisher.h"

namespace faceqan::publish {

BrokerAddress parse_broker_address(const std::string& text) {
  const auto fail = [&text](const std::string& why) {
    return PublishError("address \"" + text + "\": " + why + " (expected host:port, e.g. 127.0.0.1:1883)");
  };
  BrokerAddress address;
  std::string port;
  if (!text.empty() && text.front() == '[') {  // [ipv6]:port
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      throw fail("an IPv6 address needs [address]:port");
    }
    address.host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) throw fail("no port");
    address.host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (address.host.find(':') != std::string::npos) throw fail("write an IPv6 address in brackets");
  }
  if (address.host.empty()) throw fail("no host");
  for (char c : address.host) {
    if (std::isspace(static_cast<unsigned char>(c)) || c == '/') throw fail("not a host name");
  }
  if (port.empty() || port.size() > 5) throw fail("not a port number");
  for (char c : port) {
    if (!std::isdigit(static_cast<unsigned char>(c))) throw fail("not a port number");
  }
  address.port = std::stoi(port);
  if (address.port < 1 || address.port > 65535) throw fail("the port is not in 1-65535");
  return address;
}

}  // namespace faceqan::publish
