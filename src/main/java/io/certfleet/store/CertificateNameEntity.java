package io.certfleet.store;

import jakarta.persistence.Column;
import jakarta.persistence.Embeddable;
import jakarta.persistence.EmbeddedId;
import jakarta.persistence.Entity;
import jakarta.persistence.Table;

import java.io.Serializable;

@Entity
@Table(name = "certificate_name")
class CertificateNameEntity {
    @Embeddable
    record Key(@Column(name = "certificate_id") long certificateId, @Column(name = "domain_id") long domainId)
            implements Serializable {
    }

    @EmbeddedId
    Key key;

    protected CertificateNameEntity() {
    }
}
