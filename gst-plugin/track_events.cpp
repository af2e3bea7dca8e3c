#include "track_events.h"


#include "stream_events.h"

namespace faceqan::gst {

void TrackEventLog::saw(const FaceRecord& face, const FaceResult& result, int width, int height,
                        std::uint64_t timestamp) {
  if (face.track_id == 0 || open_.count(face.track_id) > 0) return;
  Track& known = open_[face.track_id];
  known.person = face.track_id;
  if (result.has_quality) known.quality = result.quality.quality;
  known.quality_100 = result.quality_100;
  known.timestamp = timestamp;
  known.box = pixel_box(face.box, width, height);
  known.has_box = true;
  pending_.push_back(make_stream_event(structure("new", face.track_id, known, nullptr)));
}

void TrackEventLog::improved(const BestFrame& best) {
  Track& known = open_[best.track];
  if (known.person == 0) known.person = best.person_id();
  known.quality = best.quality;
  known.quality_100 = best.quality_100;
  known.timestamp = best.timestamp;
  known.box = pixel_box(best.box, best.frame_width, best.frame_height);
  known.has_box = true;
  pending_.push_back(make_stream_event(structure("update", best.track, known, &best)));
}

void TrackEventLog::ended(TrackId track, const BestFrame* best, const char* reason) {
  auto found = open_.find(track);
  if (found == open_.end()) return;  // never shown, or already ended
  Track known = found->second;
  open_.erase(found);
  if (best != nullptr) {
    known.person = best->person_id();  // the person the gallery joined it to, if any
    known.quality = best->quality;
    known.quality_100 = best->quality_100;
    known.timestamp = best->timestamp;
    known.box = pixel_box(best->box, best->frame_width, best->frame_height);
    known.has_box = true;
  } else {
    known.quality.reset();  // a track never scored has no quality
    known.quality_100.reset();
  }
  GstStructure* s = structure("end", track, known, best);
  gst_structure_set(s, "reason", G_TYPE_STRING, reason, nullptr);
  pending_.push_back(make_stream_event(s));
}

void TrackEventLog::end_all(const std::vector<BestFrame>& bests, const char* reason) {
  for (const BestFrame& best : bests) ended(best.track, &best, reason);
  std::vector<TrackId> rest;
  for (const auto& [track, known] : open_) rest.push_back(track);
  for (TrackId track : rest) ended(track, nullptr, reason);
}

GstStructure* TrackEventLog::structure(const char* event, TrackId track, const Track& known,
                                       const BestFrame* best) const {
  GstStructure* s = gst_structure_new(kTrackEvent, "event", G_TYPE_STRING, event, "track-id",
                                      G_TYPE_UINT, track, "person-id", G_TYPE_UINT,
                                      known.person != 0 ? known.person : track, nullptr);
  if (known.quality) gst_structure_set(s, "quality", G_TYPE_DOUBLE, *known.quality, nullptr);
  if (known.quality_100) {
    gst_structure_set(s, "quality-100", G_TYPE_DOUBLE, *known.quality_100, nullptr);
  }
  gst_structure_set(s, "timestamp", G_TYPE_UINT64, static_cast<guint64>(known.timestamp), nullptr);
  if (known.has_box) {
    gst_structure_set(s, "x", G_TYPE_UINT, static_cast<guint>(known.box.x), "y", G_TYPE_UINT,
                      static_cast<guint>(known.box.y), "width", G_TYPE_UINT,
                      static_cast<guint>(known.box.width), "height", G_TYPE_UINT,
                      static_cast<guint>(known.box.height), nullptr);
  }
  if (best == nullptr) return s;
  if (best->embedding_norm)
    gst_structure_set(s, "embedding-norm", G_TYPE_DOUBLE, *best->embedding_norm, nullptr);
  if (with_embedding_ && !best->embedding.empty()) {
    GValue embedding = G_VALUE_INIT;
    gst_value_array_init(&embedding, static_cast<guint>(best->embedding.size()));
    for (float element : best->embedding) {
      GValue value = G_VALUE_INIT;
      g_value_init(&value, G_TYPE_FLOAT);
      g_value_set_float(&value, element);
      gst_value_array_append_and_take_value(&embedding, &value);
    }
    gst_structure_take_value(s, "embedding", &embedding);
  }
  // The crop travels as pixels; faceqanpublish encodes it only with attach-crop.
  if (!best->crop.empty() && best->crop.type() == CV_8UC3) {
    const cv::Mat crop = best->crop.isContinuous() ? best->crop : best->crop.clone();
    const gsize size = crop.total() * crop.elemSize();
    GstBuffer* pixels = gst_buffer_new_allocate(nullptr, size, nullptr);
    gst_buffer_fill(pixels, 0, crop.data, size);
    gst_structure_set(s, "crop", GST_TYPE_BUFFER, pixels, "crop-width", G_TYPE_INT, crop.cols,
                      "crop-height", G_TYPE_INT, crop.rows, nullptr);
    gst_buffer_unref(pixels);
  }
  return s;
}

std::vector<GstEvent*> TrackEventLog::take() {
  std::vector<GstEvent*> events;
  events.swap(pending_);
  return events;
}

void TrackEventLog::reset() {
  for (GstEvent* event : pending_) gst_event_unref(event);
  pending_.clear();
  open_.clear();
}

}  // namespace faceqan::gst
