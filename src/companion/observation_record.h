// A decoded ring record (src/ring/shared_region.h) as the engine's
// Observation: the views point into the record's bytes.
#ifndef TKMPROM_SRC_COMPANION_OBSERVATION_RECORD_H_
#define TKMPROM_SRC_COMPANION_OBSERVATION_RECORD_H_

#include "src/engine/engine.h"
#include "src/ring/shared_region.h"

namespace tkmprom {

inline Observation ToObservation(const ObservationView& view) {
  Observation obs;
  obs.kind = view.kind;
  obs.timestamp_ns = view.timestamp_ns;
  obs.client_id = view.client_id;
  obs.topic = view.topic;
  obs.payload = view.payload;
  obs.payload_size = view.payload_size;
  obs.payload_truncated = (view.flags & kPayloadTruncated) != 0;
  obs.bridged = (view.flags & kBridged) != 0;
  return obs;
}

}  // namespace tkmprom

#endif  // TKMPROM_SRC_COMPANION_OBSERVATION_RECORD_H_
