// best-same-person's gallery: tracks joined into persons by their best faces' embeddings, and the
// bounds that keep it small. Constructed embeddings, no models.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "faceqan/stream/person_gallery.h"

namespace faceqan {
namespace {

// A unit vector in 4 dimensions at `degrees` from the first axis, in the plane of the first two.
std::vector<float> at_angle(double degrees) {
  const double radians = degrees * M_PI / 180.0;
  return {static_cast<float>(std::cos(radians)), static_cast<float>(std::sin(radians)), 0.f, 0.f};
}

// The unit vector along axis `axis` of `size` dimensions: orthogonal to every other axis.
std::vector<float> axis_vector(std::size_t axis, std::size_t size) {
  std::vector<float> v(size, 0.f);
  v[axis] = 1.f;
  return v;
}

TEST(PersonGallery, OffEveryTrackIsItsOwnPerson) {
  PersonGallery gallery;  // minimum 0: off
  const std::vector<float> same = at_angle(0);
  PersonAssignment a = gallery.assign(1, same, 0.5);
  EXPECT_EQ(a.person, 1u);
  EXPECT_TRUE(a.person_best);
  a = gallery.assign(2, same, 0.4);  // identical embedding, still its own person
  EXPECT_EQ(a.person, 2u);
  EXPECT_TRUE(a.person_best);
  // The same track handed out again (best-interval, then its end): only a face at least as good
  // is the person's best.
  EXPECT_FALSE(gallery.assign(1, same, 0.45).person_best);
  EXPECT_TRUE(gallery.assign(1, same, 0.5).person_best);
  EXPECT_TRUE(gallery.assign(1, same, 0.7).person_best);
  EXPECT_EQ(gallery.persons(), 2u);
}

TEST(PersonGallery, ASimilarNewTrackJoinsThePersonAndOnlyABetterFaceIsItsBest) {
  PersonGallery gallery;
  gallery.set_min_similarity(0.6);
  EXPECT_EQ(gallery.assign(1, at_angle(0), 0.7).person, 1u);
  EXPECT_EQ(gallery.assign(2, at_angle(90), 0.6).person, 2u);  // cosine 0 to person 1

  // cos 40 degrees = 0.77 to track 1: person 1 again, but worse than its best.
  PersonAssignment a = gallery.assign(3, at_angle(40), 0.5);
  EXPECT_EQ(a.person, 1u);
  EXPECT_FALSE(a.person_best);
  // Another appearance, better: the person's new best.
  a = gallery.assign(4, at_angle(-30), 0.8);
  EXPECT_EQ(a.person, 1u);
  EXPECT_TRUE(a.person_best);
  // 80 degrees: 40 from track 3 (0.77, person 1) but 10 from track 2 (0.98): person 2.
  EXPECT_EQ(gallery.assign(5, at_angle(80), 0.5).person, 2u);
  // -70 degrees: 70 from track 1 (0.34) but 40 from track 4 (0.77): a person is as similar as
  // its most similar track.
  EXPECT_EQ(gallery.assign(6, at_angle(-70), 0.5).person, 1u);
  // -160 degrees: 90 from track 6, more from the rest: nobody's.
  EXPECT_EQ(gallery.assign(7, at_angle(-160), 0.5).person, 7u);
  EXPECT_EQ(gallery.persons(), 3u);
}

TEST(PersonGallery, TheMostSimilarPersonWinsAndBelowTheMinimumStartsANewOne) {
  PersonGallery gallery;
  gallery.set_min_similarity(0.6);
  gallery.assign(1, at_angle(0), 0.5);
  gallery.assign(2, at_angle(60), 0.5);  // cos 60 = 0.5 to track 1: a second person
  // 35 degrees from track 1 (0.82), 25 degrees from track 2 (0.91): track 2's person.
  EXPECT_EQ(gallery.assign(3, at_angle(35), 0.5).person, 2u);
  // 125 degrees from track 1, 65 from track 2 (0.42), 90 from track 3: nobody's.
  EXPECT_EQ(gallery.assign(4, at_angle(125), 0.5).person, 4u);
  // A track keeps its person even when its later best looks like someone else.
  EXPECT_EQ(gallery.assign(4, at_angle(0), 0.9).person, 4u);
  // A face without an embedding never matches.
  EXPECT_EQ(gallery.assign(5, {}, 0.5).person, 5u);
}

// A span from `first` to `last` seconds.
TrackSpan seconds(double first, double last) {
  TrackSpan span;
  span.extend(static_cast<std::uint64_t>(first * 1e9));
  span.extend(static_cast<std::uint64_t>(last * 1e9));
  return span;
}

TEST(PersonGallery, TracksOnScreenTogetherAreNeverOnePerson) {
  PersonGallery gallery;
  gallery.set_min_similarity(0.6);
  gallery.assign(1, at_angle(0), 0.5, seconds(0, 2));
  // Identical face, but on screen while track 1 was: someone else (a twin, or two unusable
  // faces whose embeddings look alike).
  EXPECT_EQ(gallery.assign(2, at_angle(0), 0.5, seconds(1.5, 3)).person, 2u);
  // After both: it may be either; person 1 came first.
  EXPECT_EQ(gallery.assign(3, at_angle(0), 0.5, seconds(4, 5)).person, 1u);
  // On screen with track 3 (now person 1's): person 2 is the one left.
  EXPECT_EQ(gallery.assign(4, at_angle(5), 0.5, seconds(4.5, 6)).person, 2u);
  // Touching one frame counts as together; an unknown span never overlaps.
  // Track 5 looks most like track 4 (person 2) but touches it at 6 s.
  EXPECT_EQ(gallery.assign(5, at_angle(5), 0.5, seconds(6, 7)).person, 1u);
  EXPECT_EQ(gallery.assign(6, at_angle(0), 0.5).person, 1u);
}

TEST(PersonGallery, SpansOverlapWhenTheyShareAMoment) {
  EXPECT_TRUE(seconds(0, 2).overlaps(seconds(2, 3)));
  EXPECT_TRUE(seconds(0, 5).overlaps(seconds(1, 2)));
  EXPECT_FALSE(seconds(0, 2).overlaps(seconds(2.04, 3)));
  EXPECT_FALSE(TrackSpan{}.overlaps(seconds(0, 1)));
  EXPECT_FALSE(TrackSpan{}.known());
  EXPECT_TRUE(seconds(1, 1).known());
}

TEST(PersonGallery, FacesBelowTheMinimumQualityNeitherJoinNorAreJoined) {
  PersonGallery gallery;
  gallery.set_min_similarity(0.6);
  gallery.set_min_quality(0.5);
  gallery.assign(1, at_angle(0), 0.3);  // unusable: kept out of the gallery
  EXPECT_EQ(gallery.assign(2, at_angle(0), 0.6).person, 2u);
  EXPECT_EQ(gallery.assign(3, at_angle(0), 0.4).person, 3u);  // unusable: joins nobody
  EXPECT_EQ(gallery.assign(4, at_angle(0), 0.5).person, 2u);
  // Track 1 handed out again with a usable face: still its own person, and now it can be joined.
  EXPECT_EQ(gallery.assign(1, at_angle(90), 0.7).person, 1u);
  EXPECT_EQ(gallery.assign(5, at_angle(85), 0.7).person, 1u);
}

TEST(PersonGallery, ClearForgetsEveryPerson) {
  PersonGallery gallery;
  gallery.set_min_similarity(0.6);
  gallery.assign(1, at_angle(0), 0.9);
  gallery.clear();
  EXPECT_EQ(gallery.persons(), 0u);
  const PersonAssignment a = gallery.assign(2, at_angle(0), 0.1);
  EXPECT_EQ(a.person, 2u);
  EXPECT_TRUE(a.person_best);
}

TEST(PersonGallery, ForgetsTheLeastRecentlySeenPersonWhenFull) {
  PersonGallery gallery;
  gallery.set_min_similarity(0.6);
  const std::size_t full = PersonGallery::kMaxPersons;
  const std::size_t size = full + 2;
  for (TrackId track = 1; track <= full; ++track) {
    ASSERT_EQ(gallery.assign(track, axis_vector(track, size), 0.5).person, track);
  }
  EXPECT_EQ(gallery.persons(), full);
  gallery.assign(2, axis_vector(2, size), 0.5);  // person 2 seen again: person 1 is now the oldest
  const TrackId next = static_cast<TrackId>(full + 1);
  EXPECT_EQ(gallery.assign(next, axis_vector(next, size), 0.5).person, next);
  EXPECT_EQ(gallery.persons(), full);
  // Person 1 is forgotten: its face starts a new person; person 2 is still known.
  EXPECT_EQ(gallery.assign(next + 1, axis_vector(1, size), 0.5).person, next + 1);
  EXPECT_EQ(gallery.assign(next + 2, axis_vector(2, size), 0.5).person, 2u);
}

TEST(PersonGallery, APersonKeepsItsLatestTracksOnly) {
  PersonGallery gallery;
  gallery.set_min_similarity(0.9);
  // Tracks drifting 10 degrees at a time (cos 10 = 0.985 between neighbours): each joins
  // person 1 through the track before it.
  const TrackId tracks = static_cast<TrackId>(PersonGallery::kMaxTracksPerPerson + 4);
  for (TrackId track = 1; track <= tracks; ++track) {
    ASSERT_EQ(gallery.assign(track, at_angle(10.0 * (track - 1)), 0.5).person, 1u) << track;
  }
  // Track 1's own direction (0 degrees) is now more than 25 degrees (cos 0.9) from every track
  // the person keeps (the last 8 span 40-110 degrees): a new face there is a new person.
  EXPECT_EQ(gallery.assign(tracks + 1, at_angle(0), 0.5).person, tracks + 1);
}

TEST(PersonGallery, CosineOfMismatchedOrEmptyEmbeddingsIsZero) {
  EXPECT_NEAR(PersonGallery::cosine(at_angle(0), at_angle(60)), 0.5, 1e-6);
  EXPECT_NEAR(PersonGallery::cosine({2.f, 0.f}, {3.f, 0.f}), 1.0, 1e-9);  // not normalised
  EXPECT_EQ(PersonGallery::cosine({}, {}), 0.0);
  EXPECT_EQ(PersonGallery::cosine({1.f, 0.f}, {1.f, 0.f, 0.f}), 0.0);
  EXPECT_EQ(PersonGallery::cosine({0.f, 0.f}, {1.f, 0.f}), 0.0);
}

}  // namespace
}  // namespace faceqan
