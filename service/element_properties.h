// Element properties checked against the elements themselves: the faceqan and faceqanpublish
// GObject classes of the installed plugin say which properties exist, their types and ranges.
#pragma once

#include "config.h"

namespace faceqan::service {

// Needs gst_init. An element the registry does not know is reported as such for every property.
class GstPropertyChecker : public PropertyChecker {
 public:
  std::string check(const std::string& factory, const std::string& name,
                    const std::string& value) const override;
};

// Whether `factory` exists and has a property `name` (the service sets camera-id only where the
// installed faceqan has it).
bool element_has_property(const std::string& factory, const std::string& name);

}  // namespace faceqan::service
