// Where a key lives: the Java client's default partitioner (murmur2 of the
// key, positive, modulo the partition count), through librdkafka's own
// implementation, so consumers using any client agree.

import CRdKafka

enum KafkaPartition {
    static func murmur2(_ key: [UInt8], partitions: Int32) -> Int32 {
        key.withUnsafeBytes { key in
            rd_kafka_msg_partitioner_murmur2(nil, key.baseAddress, key.count, partitions, nil, nil)
        }
    }
}
