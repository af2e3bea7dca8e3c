// The faceqan element's output, on the src pad's task: it takes the scoring queue's next work
// (hand a batch of faces to the scorer, or push the next finished item), gives each frame that
// leaves its faces' results (metadata, drawing, messages, JSON export, best frames) and pushes
// frames and the events queued between them downstream in order. The last step of a frame's
// path, after element_input.h and the queue. Private to the element (gstfaceqan.cpp).
#pragma once

#include <gst/gst.h>

#include <vector>

#include "faceqan/stream/best_frames.h"
#include "element_settings.h"
#include "element_state.h"

namespace faceqan::gst {

// One turn of the src pad's task (the task function calls it with a settings snapshot). On a
// flow return other than OK it records it in SharedState::src_result, sets the queue flushing
// and pauses the task.
void run_output_task(GstElement* element, GstPad* srcpad, State& st, const Settings& s);

// Posts, saves and exports best frames handed out by the selector. Called by the task, and by
// the state change and flush once the task has stopped.
void emit_best_frames(GstElement* element, State& st, const Settings& s,
                      std::vector<BestFrame> bests);
// The same for every pending best frame (EOS, stop, flush), after which no track is live.
void emit_all_best_frames(GstElement* element, State& st, const Settings& s);

}  // namespace faceqan::gst
