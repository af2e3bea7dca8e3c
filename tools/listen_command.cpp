#include "listen_command.h"

#include <nlohmann/json.hpp>

#include <iostream>

namespace faceqan::cli {

void add_listen_command(CLI::App& app, publish::ListenSettings& options) {
  CLI::App* command = app.add_subcommand(
      "listen", "Print the messages faceqanpublish sends to an MQTT broker as they arrive");
  command->add_option("--address", options.address, "The broker, host:port")
      ->capture_default_str();
  command->add_option("--topic", options.topic, "Topic prefix: listens to TOPIC/#")
      ->capture_default_str();
  command->add_option("--client-id", options.client_id,
                      "A fixed client id: a persistent session, so that nothing published "
                      "while this listener is away is lost (QoS 1)");
  command->add_option("--count", options.count, "Stop after N messages (0: never)");
  command->add_option("--timeout", options.timeout, "Stop after S seconds (0: never)");
  command->add_option("--tls-ca-file", options.tls_ca_file, "CA of the broker's certificate (TLS)");
  command->add_option("--username", options.username, "MQTT user name");
  command->add_option("--password-file", options.password_file,
                      "File whose first line is the password");
}

int run_listen(const publish::ListenSettings& options) {
  publish::listen(options, [](const std::string& topic, const std::string& payload) {
    // A payload that is not JSON is shown as a string rather than dropped.
    auto message = nlohmann::json::parse(payload, nullptr, false);
    if (message.is_discarded()) message = payload;
    std::cout << nlohmann::json{{"topic", topic}, {"message", message}}.dump() << std::endl;
    return true;
  });
  return 0;
}

}  // namespace faceqan::cli
