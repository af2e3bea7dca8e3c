// The faceqan element's output, on the src pad's task: each frame that leaves gets its faces'
// results (metadata, drawing, messages, JSON export, best frames) and goes downstream in order,
// with the events queued between the frames. Private to the element (gstfaceqan.cpp).
#pragma once

#include <gst/gst.h>

#include <vector>

#include "best_frames.h"
#include "element_settings.h"
#include "element_state.h"

namespace faceqan::gst {

// Posts, saves and exports best frames handed out by the selector. Called by the task, and by
// the state change and flush once the task has stopped.
void emit_best_frames(GstElement* element, State& st, const Settings& s,
                      std::vector<BestFrame> bests);
// The same for every pending best frame (EOS, stop, flush), after which no track is live.
void emit_all_best_frames(GstElement* element, State& st, const Settings& s);

// Publishes a finished item and pushes it on `srcpad`: a frame with its results (or, when
// mode=drop rejects it, a GAP with drop-gaps or nothing), an event as it is. Returns the flow
// return to act on (GST_FLOW_EOS after EOS).
GstFlowReturn push_finished(GstElement* element, GstPad* srcpad, State& st, const Settings& s,
                            Queue::Finished& finished);

}  // namespace faceqan::gst
